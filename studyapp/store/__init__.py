"""The learner's profile: one SQLite file per profile, through sqlite-utils, with no Qt.

    result = open_profile(data_dir)      # checks, repairs, migrates, backs up
    for text in result.messages: ...     # show these to the learner
    store = result.store
    LessonProgress(store).mark_section_read("sft-basics", "why-sft")
    Settings(store).set("theme", "dark")
    store.maybe_backup()                 # from a UI timer
    store.close()

See profile.py for what happens to damaged, foreign and newer files, db.py for transactions and
durability, migrations.py for adding tables.
"""

from .backup import connect_readonly
from .db import Store
from .errors import ProfileClosed, ProfileDamageFound, ProfileTooNewError, StorageError, StoreError
from .migrations import LATEST_VERSION, MIGRATIONS, Migration
from .profile import PROFILE_NAME, OpenResult, open_profile
from .progress import LessonProgress, Progress
from .settings import Settings

__all__ = [
    "LATEST_VERSION", "MIGRATIONS", "PROFILE_NAME", "LessonProgress", "Migration", "OpenResult",
    "ProfileClosed", "ProfileDamageFound", "ProfileTooNewError", "Progress", "Settings", "StorageError", "Store",
    "StoreError", "connect_readonly", "open_profile",
]
