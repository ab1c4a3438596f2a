"""The complaint engine (issue 19): complaints run by a vertical's flow
(``core.plugins.complaint_flows``), their clocks on the tenant's working-day calendar, breach
reactions from the periodic tick. Tables in ``tables``, pure rules in ``policy``, use cases in
``service``."""
