from django.db import migrations


class Migration(migrations.Migration):
    """``Source.settings`` becomes ``options``, the word the source kinds use (the data is kept)."""

    dependencies = [
        ("api", "0008_sweep_source_expected_batch_ids"),
    ]

    operations = [
        migrations.RenameField(model_name="source", old_name="settings", new_name="options"),
    ]
