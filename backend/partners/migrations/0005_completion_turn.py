"""Each answer's (completion's) Turn, filled in by the next migration."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('partners', '0004_apikey_end_user_limits'),
        ('turns', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='completion',
            name='turn',
            field=models.OneToOneField(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='completion', to='turns.turn'),
        ),
    ]
