"""Guided lessons: lesson files, their validation and the student's progress (Qt-free models).

```python
from gui.lessons import load_lesson, lesson_names, LessonProgress
lesson = load_lesson("padding")            # or a path to a .convscope-lesson.json file
progress = LessonProgress(lesson)
ok, hint = progress.answer(6); progress.next()
```
"""

from gui.lessons.errors import LessonError
from gui.lessons.progress import LessonProgress, check_answer, normalise_text
from gui.lessons.schema import (
    LESSON_SUFFIX,
    LESSONS_DIR,
    Lesson,
    Question,
    Source,
    Step,
    Text,
    all_lessons,
    lesson_names,
    lesson_to_dict,
    load_lesson,
    new_step,
    parse_lesson,
    save_lesson,
)

__all__ = ["LESSON_SUFFIX", "LESSONS_DIR", "Lesson", "LessonError", "LessonProgress", "Question", "Source", "Step",
           "Text", "all_lessons", "check_answer", "lesson_names", "lesson_to_dict", "load_lesson", "new_step",
           "normalise_text", "parse_lesson", "save_lesson"]
