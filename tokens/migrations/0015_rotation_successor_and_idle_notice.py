import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tokens', '0014_usage'),
    ]

    operations = [
        migrations.AddField(
            model_name='accesstoken',
            name='rotated_into',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='rotated_from', to=settings.OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL),
        ),
        migrations.CreateModel(
            name='RotationNotice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('credential_kind', models.CharField(max_length=16)),
                ('credential_id', models.BigIntegerField()),
                ('overlap_until', models.DateTimeField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('credential_kind', 'credential_id', 'overlap_until'), name='one_idle_notice_per_overlap')],
            },
        ),
    ]
