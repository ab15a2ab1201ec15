"""The instructors' and maintainers' tools of the Residual Networks course: they import
`course_utils`, never the other way round (tests/unit/test_layout.py).

    execute_book      re-run chapters and store their outputs (`make execute`)
    solutions         keep each chapter's solution cells equal to the reference code
    student_version   the student version of the chapters (`make student`)
    classroom         the class's nbgrader course folder: assignments, gradebook, feedback
    grade_class  grade a class with nbgrader, each submission in a sandbox
    grading_kernel    the sandboxed kernel submissions run in (course_tools.sandbox)
    notebooks         reading, finding and writing the chapters' notebooks
"""
