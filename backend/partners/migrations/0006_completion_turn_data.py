"""Each completion gets its turns.Turn (same id), with the completion's turn columns copied into it. 0006
drops them."""

from django.db import migrations, models

TURN_COLUMNS = (
    "model", "status", "error_code", "finish_reason", "prompt_tokens", "completion_tokens", "reasoning_tokens",
    "cached_tokens", "finished_at",
)


def completions_to_turns(apps, schema_editor):
    Completion = apps.get_model("partners", "Completion")
    Turn = apps.get_model("turns", "Turn")
    batch = []
    for completion in Completion.objects.filter(turn__isnull=True).iterator(chunk_size=2000):
        columns = {name: getattr(completion, name) for name in TURN_COLUMNS}
        batch.append(
            Turn(
                id=completion.id,
                source="partner",
                user_id=completion.user_id,
                api_key_id=completion.api_key_id,
                queued_at=completion.created_at,
                **columns,
            )
        )
        if len(batch) >= 2000:
            Turn.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Turn.objects.bulk_create(batch, ignore_conflicts=True)
    Completion.objects.filter(turn__isnull=True).update(turn_id=models.F("id"))


def turns_to_completions(apps, schema_editor):
    Completion = apps.get_model("partners", "Completion")
    Turn = apps.get_model("turns", "Turn")
    turn = Turn.objects.filter(id=models.OuterRef("turn_id"))
    Completion.objects.filter(turn__isnull=False).update(
        **{name: models.Subquery(turn.values(name)[:1]) for name in TURN_COLUMNS}
    )
    Completion.objects.update(turn=None)
    Turn.objects.filter(source="partner").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('partners', '0005_completion_turn'),
    ]

    operations = [
        migrations.RunPython(completions_to_turns, turns_to_completions),
    ]
