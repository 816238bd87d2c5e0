"""The admin (/admin/): every model of ours, on top of the domain apps.

One app on top, because its pages combine models of several apps (a ticket with its Timesheets,
a sales order with its invoices) and its scopes are the selectors of several apps. The classes
are registered in `admin.py`; the bases they share are in `core.admin`.
"""
