"""URLs of the residents' survey (以下评上), mounted at /survey/: the public
answer page of a signed link and the staff's results."""

from django.urls import path

from . import views_survey

app_name = "survey"
urlpatterns = [
    path("results/", views_survey.results, name="results"),
    path("a/<str:token>/", views_survey.answer, name="answer"),
]
