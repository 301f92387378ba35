from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("files", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="uploadedfile",
            name="purpose",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
    ]
