"""Files uploaded for a customer import, kept only until their import job has run."""

from piccolo.columns import UUID, Integer, Text, Varchar

from core.db.tables import TenantOwned


class CustomerImportUpload(TenantOwned, tablename="customer_import_upload"):
    """The file of one ``customer.import`` job (base64), and how far a skip-bad-rows import got,
    so a job claimed again after its worker died resumes instead of importing rows twice."""

    job_id = UUID()
    filename = Varchar(length=200)
    size = Integer()
    data = Text()  # base64 of the file as uploaded
    lines_done = Integer(default=0)  # the last line whose batch committed

# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = (CustomerImportUpload,)
