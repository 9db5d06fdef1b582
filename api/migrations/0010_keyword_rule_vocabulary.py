from django.db import migrations, models


class Migration(migrations.Migration):
    """KeywordRule.kind says which list of the engine a phrase joins: it is now called ``vocabulary`` (``kind`` is
    a Source's)."""

    dependencies = [("api", "0009_source_options")]

    operations = [
        migrations.RemoveConstraint(model_name="keywordrule", name="keyword_rule_unique"),
        migrations.RenameField(model_name="keywordrule", old_name="kind", new_name="vocabulary"),
        migrations.AlterField(
            model_name="keywordrule",
            name="vocabulary",
            field=models.CharField(choices=[("tge_keywords", "launch phrase (prefilter)"),
                                            ("exclusions", "exclusion (rejects an item)"),
                                            ("watchlist", "watched project (raises confidence)")],
                                   help_text="Which list of the engine the phrase joins.", max_length=16),
        ),
        migrations.AlterModelOptions(name="keywordrule", options={"ordering": ["vocabulary", "phrase"]}),
        migrations.AddConstraint(model_name="keywordrule",
                                 constraint=models.UniqueConstraint(fields=("vocabulary", "phrase"),
                                                                    name="keyword_rule_unique")),
    ]
