"""Each answer gets its turns.Turn (same id), with the answer's turn columns copied into it. 0007 drops them."""

from django.db import migrations, models

TURN_COLUMNS = (
    "model", "status", "error", "error_code", "finish_reason", "prompt_tokens", "completion_tokens",
    "reasoning_tokens", "cached_tokens", "queued_at", "started_at", "first_token_at", "finished_at",
)


def answers_to_turns(apps, schema_editor):
    Message = apps.get_model("chat", "Message")
    Turn = apps.get_model("turns", "Turn")
    answers = Message.objects.filter(role="assistant", turn__isnull=True).select_related("conversation")
    batch = []
    for answer in answers.iterator(chunk_size=2000):
        columns = {name: getattr(answer, name) for name in TURN_COLUMNS}
        batch.append(Turn(id=answer.id, source="app", user_id=answer.conversation.user_id, **columns))
        if len(batch) >= 2000:
            Turn.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Turn.objects.bulk_create(batch, ignore_conflicts=True)
    Message.objects.filter(role="assistant", turn__isnull=True).update(turn_id=models.F("id"))


def turns_to_answers(apps, schema_editor):
    Message = apps.get_model("chat", "Message")
    Turn = apps.get_model("turns", "Turn")
    turn = Turn.objects.filter(id=models.OuterRef("turn_id"))
    Message.objects.filter(turn__isnull=False).update(
        **{name: models.Subquery(turn.values(name)[:1]) for name in TURN_COLUMNS}
    )
    Message.objects.filter(turn__isnull=False).update(turn=None)
    Turn.objects.filter(source="app").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0005_message_turn'),
    ]

    operations = [
        migrations.RunPython(answers_to_turns, turns_to_answers),
    ]
