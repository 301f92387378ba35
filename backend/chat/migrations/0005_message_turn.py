"""Each answer's (completion's) Turn, filled in by the next migration."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0004_message_cached_tokens'),
        ('turns', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='turn',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='message', to='turns.turn'),
        ),
    ]
