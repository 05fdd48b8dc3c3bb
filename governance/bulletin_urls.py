"""URLs of the periodic reports and the grid page (mounted at /reports/)."""

from django.urls import path

from . import views_bulletins as views

app_name = "bulletins"
urlpatterns = [
    path("weekly/", views.weekly_bulletin, name="weekly"),
    path("weekly.xlsx", views.weekly_bulletin, {"xlsx": True}, name="weekly_xlsx"),
    path("monthly/", views.monthly_ranking, name="monthly"),
    path("monthly.xlsx", views.monthly_ranking, {"xlsx": True}, name="monthly_xlsx"),
    path("yearly/", views.yearly_summary, name="yearly"),
    path("yearly.xlsx", views.yearly_summary, {"xlsx": True}, name="yearly_xlsx"),
    path("grids/<int:grid_id>/", views.grid_page, name="grid"),
]
