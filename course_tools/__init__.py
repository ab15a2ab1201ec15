"""The instructors' and maintainers' tools of the Residual Networks course: they import
`course_utils`, never the other way round (tests/unit/test_layout.py).

    execute_book      re-run chapters and store their outputs (`make execute`)
    solutions         keep each chapter's solution cells equal to the reference code
    student_version   the student version of the chapters (`make student`)
    grade_submission  grade learners' notebooks against the instructor's check cells
    grading_outcomes  the pytest plugin that records each graded notebook's verdict
    notebooks         reading, finding and writing the chapters' notebooks
"""
