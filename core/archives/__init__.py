"""Archives of types a vertical defines (档案): folders per subject, documents, checks, the
handover register, KPI and fine ledgers, reconciliation and retention. See ``service``."""
