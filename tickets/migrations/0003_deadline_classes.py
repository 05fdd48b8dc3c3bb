"""Deadline classes become rows with their unit (seed 004: "5日", "7日",
"30个工作日"); a ticket's deadline keeps the unit it was counted in (deadlines
already set counted working days, and stay as they are); holiday names in the
calendar in Chinese."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

# code → (name, days, unit); the data the first migration of classes writes.
STANDARD_CLASSES = {
    "easy": ("简易纠纷", 5, "calendar_days"),
    "general": ("一般纠纷及12345热线", 7, "calendar_days"),
    "hard": ("疑难复杂", 30, "working_days"),
}


def create_standard_classes(apps, schema_editor):
    HandlingLimit = apps.get_model("tickets", "HandlingLimit")
    for code, (name, days, unit) in STANDARD_CLASSES.items():
        HandlingLimit.objects.get_or_create(
            code=code, defaults={"name": name, "days": days, "unit": unit}
        )


def holiday_names_in_chinese(apps, schema_editor):
    """Re-derive the notes the fills wrote in English (staff notes untouched)."""
    import holidays

    from tickets.workcalendar import MAKE_UP_WORKDAY_NOTE, chinese_holiday_name

    Day = apps.get_model("tickets", "WorkCalendarDay")
    changed = []
    guesses = {}
    for day in Day.objects.exclude(note="").exclude(source="staff").iterator():
        if day.note == MAKE_UP_WORKDAY_NOTE:
            continue
        if day.source == "chinese_calendar":
            note = chinese_holiday_name(day.note)
        else:
            year = day.date.year
            if year not in guesses:
                guesses[year] = holidays.China(years=year, language="zh_CN")
            note = str(guesses[year].get(day.date, day.note))
        if note != day.note:
            day.note = note[:100]
            changed.append(day)
    Day.objects.bulk_update(changed, ["note"], batch_size=200)


class Migration(migrations.Migration):
    dependencies = [
        ("grids", "0003_region_boundary_validator_auditentry"),
        ("tickets", "0002_remind_at_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="HandlingLimit",
            fields=[
                (
                    "code",
                    models.SlugField(
                        help_text="A stable code (letters, digits, hyphens), never changed.",
                        max_length=32,
                        primary_key=True,
                        serialize=False,
                        verbose_name="code",
                    ),
                ),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                (
                    "days",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(365),
                        ],
                        verbose_name="limit",
                    ),
                ),
                (
                    "unit",
                    models.CharField(
                        choices=[
                            ("calendar_days", "days (calendar)"),
                            ("working_days", "working days"),
                        ],
                        default="calendar_days",
                        max_length=16,
                        verbose_name="unit",
                    ),
                ),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "region",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty: shared by every area. A street: its own subtree only.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="grids.region",
                        verbose_name="kept by",
                    ),
                ),
            ],
            options={
                "verbose_name": "deadline class",
                "verbose_name_plural": "deadline classes",
                "ordering": ["days", "code"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("region", "name"),
                        name="handling_limit_unique_name_per_region",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.RunPython(create_standard_classes, migrations.RunPython.noop),
        migrations.AddField(
            model_name="ticket",
            name="deadline_unit",
            field=models.CharField(
                choices=[
                    ("calendar_days", "days (calendar)"),
                    ("working_days", "working days"),
                ],
                default="working_days",
                editable=False,
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="workcalendarday",
            name="source",
            field=models.CharField(
                choices=[
                    ("chinese_calendar", "State Council holiday schedule"),
                    ("holidays", "Statutory holidays only (no make-up workdays)"),
                    ("staff", "Entered by staff"),
                ],
                max_length=20,
                verbose_name="source",
            ),
        ),
        migrations.AlterField(
            model_name="workcalendaryear",
            name="source",
            field=models.CharField(
                choices=[
                    ("chinese_calendar", "State Council holiday schedule"),
                    ("holidays", "Statutory holidays only (no make-up workdays)"),
                    ("staff", "Entered by staff"),
                ],
                max_length=20,
                verbose_name="source",
            ),
        ),
        migrations.RunPython(holiday_names_in_chinese, migrations.RunPython.noop),
    ]
