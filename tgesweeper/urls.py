"""URL map: the admin, the REST API under /api/v1/, the health probes and the dashboard at /app/."""
from django.contrib import admin
from django.urls import include, path, re_path

from api import dashboard

urlpatterns = [
    path("admin/", admin.site.urls),
    path("app/auth/login", dashboard.login, name="dashboard-login"),
    path("app/auth/refresh", dashboard.refresh, name="dashboard-refresh"),
    path("app/auth/logout", dashboard.logout, name="dashboard-logout"),
    re_path(r"^app(?:/(?P<route>.*))?$", dashboard.index, name="dashboard"),
    path("", include("api.urls")),
]

handler400 = "api.errors.bad_request"
handler404 = "api.errors.not_found"
handler500 = "api.errors.server_error"
