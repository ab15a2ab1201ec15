// Loaded after RequireJS and before the ipywidgets HTML manager (embed-amd.js) on the pages that
// hold widgets (see nb_ipywidgets_js in _config.yml).
(function () {
  // 1. The manager's AMD modules find their files (the Font Awesome fonts of their CSS) next to
  // the URL RequireJS gives each module. Without these paths those URLs are relative to the page
  // (book/@jupyter-widgets/...) and the fonts fail to load.
  var here = document.currentScript.src;
  var widgets = here.slice(0, here.lastIndexOf("/") + 1) + "jupyter-widgets";
  require.config({
    paths: {
      "@jupyter-widgets": widgets,
      "@jupyter-widgets/html-manager/dist": widgets,
    },
  });

  // 2. The widgets typeset their text with the MathJax 2 call
  // MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]) whenever window.MathJax exists; the
  // book loads MathJax 3, which has no Hub (a TypeError on every widget). This Hub hands the
  // element to MathJax 3. MathJax 3 replaces window.MathJax when it starts, so the Hub is put
  // back in its startup.ready.
  if (window.MathJax === undefined) return;
  var hub = {
    Queue: function (job) {
      var mathjax = window.MathJax;
      var element = job && job[2];
      if (mathjax && mathjax.typesetPromise && element) {
        mathjax.typesetPromise([element]).catch(function (error) {
          console.warn("MathJax could not typeset a widget:", error);
        });
      }
    },
  };
  var config = window.MathJax;
  config.Hub = hub;
  config.startup = config.startup || {};
  var ready = config.startup.ready;
  config.startup.ready = function () {
    if (ready) {
      ready();
    } else {
      window.MathJax.startup.defaultReady();
    }
    window.MathJax.Hub = hub;
  };
})();
