import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def keys_signed_since_creation(apps, schema_editor):
    # Keys that exist already have been signing since they were created.
    apps.get_model("tokens", "SigningKey").objects.update(activates_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("tokens", "0007_audit_subjects")]

    operations = [
        migrations.AddField(
            model_name="signingkey",
            name="activates_at",
            field=models.DateTimeField(default=django.utils.timezone.now, help_text="When it starts signing."),
        ),
        migrations.RunPython(keys_signed_since_creation, migrations.RunPython.noop),
    ]
