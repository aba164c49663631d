"""Extensions, created unbound; `create_app()` binds them to an app.

Flask-AppBuilder is the exception: one `AppBuilder` is created per app inside `create_app()`
(a module-level instance skips views on the second app in a process), reached as
`current_app.appbuilder`. Its security manager owns the rate limiter, so there is no second
`Limiter` here either: use `app.ratelimit.limiter()`.
"""

from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from huey import Huey
from huey.storage import MemoryStorage

# One metadata for Flask-AppBuilder's security tables and ours, so one Alembic history owns both.
db = SQLA(metadata=Model.metadata)
migrate = Migrate()
csrf = CSRFProtect()
# Storage is chosen by `app.jobs.bind_huey()` from the configuration (Redis or SQLite).
huey = Huey("boxset", storage_class=MemoryStorage)
