"""Mentions carry their document's source, indexed with the event, for the API's source filter."""
import django.db.models.deletion
from django.db import migrations, models


def copy_source_from_document(apps, schema_editor):
    Mention = apps.get_model("api", "Mention")
    Document = apps.get_model("api", "Document")
    Mention.objects.update(
        source_id=models.Subquery(Document.objects.filter(pk=models.OuterRef("document_id")).values("source_id")[:1])
    )


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0006_event_chain_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="mention",
            name="source",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="api.source"),
        ),
        migrations.RunPython(copy_source_from_document, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="mention",
            name="source",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="api.source"),
        ),
        migrations.AddIndex(
            model_name="mention",
            index=models.Index(fields=["source", "event"], name="mention_source_event"),
        ),
    ]
