from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("tokens", "0011_invalidation_log"),
    ]

    operations = [
        migrations.AddField(
            model_name="tokenpolicy",
            name="require_jwt_exp",
            field=models.BooleanField(default=False, help_text="API-key JWTs must carry `exp`."),
        ),
    ]
