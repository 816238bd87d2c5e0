"""REST API v1 routes (/api/v1/)."""

urlpatterns = []
