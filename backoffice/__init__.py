"""The admin (/admin/): every model of ours, registered in `admin.py` on the bases of `core.admin`."""
