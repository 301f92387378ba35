"""Fills a development database with a week of made-up users and turns, so the dashboard has something to show.

    python backend/manage.py seed_dashboard_demo [--users 40] [--seed 7]

Refuses to run in production. Used for docs/screenshots/admin-dashboard.png.
"""

from __future__ import annotations

import random
from datetime import UTC, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from turns.models import Turn

from accounts.models import User
from chat.models import Conversation, Message
from common import metrics
from common.redis import get_redis
from inference import protocol


class Command(BaseCommand):
    help = "Seed a development database with a week of demo users and turns for the admin dashboard."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--users", type=int, default=40)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.ENVIRONMENT == "production":
            raise CommandError("Refusing to seed demo data in production.")
        rng = random.Random(options["seed"])  # noqa: S311 - demo data, not secrets
        now = timezone.now().astimezone(UTC)
        users = [
            User.objects.create_user(
                email=f"demo{n}-{rng.randrange(10**6)}@example.com",
                password=None,
                date_joined=now - timedelta(days=rng.randrange(0, 20)),
            )
            for n in range(options["users"])
        ]
        turns = 0
        for hours_ago in range(7 * 24):
            moment = now - timedelta(hours=hours_ago)
            daytime = 8 <= moment.hour <= 22
            for _ in range(rng.randrange(2, 9) if daytime else rng.randrange(0, 3)):
                owner = rng.choice(users[: max(3, int(len(users) * (0.4 + 0.5 * rng.random())))])
                self._turn(rng, owner, moment - timedelta(minutes=rng.randrange(60)))
                turns += 1
        for _ in range(rng.randrange(20, 40)):
            limit = rng.choice(["requests_per_minute", "turns_per_day", "tokens_per_day", "concurrent_turns"])
            metrics.rejection_observed(status=429, code=f"{limit}_exceeded", extra={"limit": limit})
        for _ in range(rng.randrange(3, 9)):
            metrics.rejection_observed(status=503, code="server_busy", extra={"model": "whale-r1"})
        self._heartbeat("gpu-demo-1", "whale-tiny-r1", in_flight=5)
        self.stdout.write(f"seeded {len(users)} users and {turns} turns")

    def _turn(self, rng: random.Random, owner: User, created_at: Any) -> None:
        conversation = Conversation.objects.create(user=owner, title="demo", created_at=created_at)
        question = Message.objects.create(
            conversation=conversation, role=Message.Role.USER, content="demo question", created_at=created_at
        )
        roll = rng.random()
        status = (
            Message.Status.FAILED if roll < 0.03 else Message.Status.CANCELLED if roll < 0.08 else Message.Status.DONE
        )
        first_token = rng.lognormvariate(-1.2, 0.5)
        completion = rng.randrange(40, 900) if status != Message.Status.FAILED else 0
        turn = Turn.objects.create(
            source=Turn.Source.APP,
            user=owner,
            model=rng.choice(["whale-r1", "whale-chat"]),
            status=status,
            prompt_tokens=rng.randrange(20, 1500),
            completion_tokens=completion,
            queued_at=created_at,
            first_token_at=created_at + timedelta(seconds=first_token) if completion else None,
            finished_at=created_at + timedelta(seconds=first_token + completion / rng.uniform(25, 60)),
        )
        Message.objects.create(
            id=turn.id,
            turn=turn,
            conversation=conversation,
            parent=question,
            role=Message.Role.ASSISTANT,
            content="demo answer",
            created_at=created_at,
        )

    def _heartbeat(self, worker_id: str, model: str, *, in_flight: int) -> None:
        prefix = settings.WHALE_REDIS_PREFIX
        queues = ",".join(sorted({str(spec["queue"]) for spec in settings.WHALE_MODELS.values()}))
        client = get_redis()
        key = protocol.worker_heartbeat_key(prefix, worker_id)
        client.hset(
            key,
            mapping={
                "worker_id": worker_id,
                "host": "demo",
                "model": model,
                "engine": "vllm",
                "in_flight": str(in_flight),
                "capacity": "64",
                "queues": queues,
                "last_seen": timezone.now().isoformat(),
                "last_seen_epoch": f"{timezone.now().timestamp():.3f}",
            },
        )
        client.expire(key, 600)
        client.sadd(protocol.workers_index_key(prefix), worker_id)
