"""Answer keys of the end-of-chapter questions, one module per chapter (`ch01`, `ch02`, ...):
each defines `ANSWERS = {"N.k": questions.Answer(...)}`. See `course_utils.questions`."""
