"""Publication of the golden tables: atomic replacement, history, pseudonyms, roles and audit.

`publish()` (publication.py) is the one entry point; the other modules each do one job and are
tested on their own: validated settings (config.py), HMAC pseudonyms
(pseudonym.py), which columns a masked view may show (masking.py), keeping a published table's
columns in step with its build table (columns.py), PostgreSQL roles, grants and pekon-scoped
views (access.py), and the audit record of each run (audit.py).
"""

from dtsen_pipeline.publish.audit import RunInfo
from dtsen_pipeline.publish.config import PublishConfig, RoleConfig
from dtsen_pipeline.publish.pseudonym import PseudonymKey, resolve_key
from dtsen_pipeline.publish.publication import PublishResult, publish

__all__ = ["PseudonymKey", "PublishConfig", "PublishResult", "RoleConfig", "RunInfo", "publish", "resolve_key"]
