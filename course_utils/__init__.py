"""What the chapters of the Residual Networks course import.

    resnet          identity_block, convolutional_block and ResNet50: the graded reference model
    resnets_utils   load_dataset and convert_to_one_hot: the course's data interface
    data            builds and checks the SIGNS data files; tf.data pipelines
    grading         check_identity_block, check_convolutional_block, check_resnet50
    training        recipes, the training loop (one device or many), augmentation, model card,
                    brief runs (chapter 9's side-by-side comparison)
    variants        the variants of the residual block and the networks built from them
    evaluate        scores, predictions and photos from files
    weights         the shipped trained weights
    model_diagram, skip_experiment
                    the architecture diagram (chapter 04), the plain-versus-residual experiment
                    (chapter 08)

The instructors' and maintainers' tools live in the package ``course_tools`` beside this one.
Keras runs on TensorFlow unless KERAS_BACKEND says otherwise.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
