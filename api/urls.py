from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from api import alert_views, health, prometheus, views

router = DefaultRouter()
router.trailing_slash = "/?"  # the seed's paths have no trailing slash; accept both
router.register("tge-events", views.EventViewSet, basename="tge-event")
router.register("sources", views.SourceViewSet, basename="source")
router.register("documents", views.DocumentViewSet, basename="document")
router.register("subscriptions", alert_views.SubscriptionViewSet, basename="subscription")
router.register("deliveries", alert_views.DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/v1/system/metrics", views.SystemMetricsView.as_view(), name="system-metrics"),
    path("api/v1/auth/token", TokenObtainPairView.as_view(), name="token-obtain"),
    path("api/v1/auth/token/refresh", TokenRefreshView.as_view(), name="token-refresh"),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="openapi"), name="redoc"),
    path("metrics", prometheus.PrometheusMetricsView.as_view(), name="prometheus"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
]
