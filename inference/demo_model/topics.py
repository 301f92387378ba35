"""What the demo model knows: its topics (questions, reasoning ideas, answers, titles) and its greeting."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    questions: tuple[str, ...]
    ideas: tuple[str, ...]
    answers: tuple[str, ...]
    titles: tuple[str, ...]


TOPICS: tuple[Topic, ...] = (
    Topic(
        "sky",
        ("Why is the sky blue?", "What makes the sky blue?", "Why does the sky look blue?", "Tell me about the sky."),
        ("sunlight", "scattering", "wavelengths"),
        (
            "The sky looks blue because air scatters short blue light more than red light.",
            "Air scatters blue sunlight the most, so the whole sky glows blue.",
        ),
        ("Why the Sky Is Blue", "Blue Sky Explained", "The Color of the Sky"),
    ),
    Topic(
        "sea",
        (
            "Why is the sea salty?",
            "What makes the ocean salty?",
            "Where does sea salt come from?",
            "Tell me about the sea.",
        ),
        ("rivers", "rocks", "minerals", "evaporation"),
        (
            "Rivers carry minerals from rocks into the sea, and evaporation leaves the salt behind.",
            "The sea is salty because water evaporates while the minerals from rocks stay.",
        ),
        ("Why the Sea Is Salty", "Salt in the Ocean", "Ocean Salt Explained"),
    ),
    Topic(
        "plants",
        ("How do plants grow?", "What do plants need to grow?", "How do plants make food?", "Tell me about plants."),
        ("light", "water", "photosynthesis", "sugar"),
        (
            "Plants use light, water and air to make sugar by photosynthesis, and that sugar helps them grow.",
            "With sunlight, water and carbon dioxide, plants make their own food and grow.",
        ),
        ("How Plants Grow", "Plant Growth Basics", "Photosynthesis in Plants"),
    ),
    Topic(
        "stars",
        ("Why do stars shine?", "What makes stars bright?", "How do stars make light?", "Tell me about the stars."),
        ("fusion", "hydrogen", "heat", "light"),
        (
            "Stars shine because fusion in their cores turns hydrogen into helium and releases light.",
            "Deep inside a star, fusion makes heat and light, so the star shines.",
        ),
        ("Why Stars Shine", "Starlight Explained", "How Stars Make Light"),
    ),
    Topic(
        "rain",
        ("Why does it rain?", "How does rain form?", "Where does rain come from?", "Tell me about rain."),
        ("clouds", "droplets", "cooling", "gravity"),
        (
            "Rain forms when water vapor cools into droplets in clouds that grow heavy and fall.",
            "Cool air turns vapor into droplets, and when they grow heavy they fall as rain.",
        ),
        ("How Rain Forms", "Where Rain Comes From", "Rain Explained"),
    ),
    Topic(
        "coffee",
        ("How is coffee made?", "Where does coffee come from?", "Why does coffee wake me up?", "Tell me about coffee."),
        ("beans", "roasting", "brewing", "caffeine"),
        (
            "Coffee is made by roasting beans, grinding them and brewing them with hot water; its caffeine keeps you awake.",
            "Roasted coffee beans are ground and brewed, and the caffeine wakes you up.",
        ),
        ("How Coffee Is Made", "Coffee Basics", "Coffee and Caffeine"),
    ),
    Topic(
        "moon",
        (
            "Why does the moon change shape?",
            "What are moon phases?",
            "Why does the moon glow?",
            "Tell me about the moon.",
        ),
        ("orbit", "sunlight", "phases", "reflection"),
        (
            "The moon reflects sunlight, and as it orbits the earth we see more or less of its lit side.",
            "We see the moon's phases because its sunlit half turns toward us and away again.",
        ),
        ("Phases of the Moon", "Why the Moon Glows", "The Moon Explained"),
    ),
    Topic(
        "snow",
        ("Why is snow white?", "How does snow form?", "What is snow made of?", "Tell me about snow."),
        ("ice", "crystals", "cold", "light"),
        (
            "Snow is made of ice crystals that form in cold clouds; they scatter all light, so snow looks white.",
            "Tiny ice crystals grow in cold clouds and fall as snow, which looks white.",
        ),
        ("How Snow Forms", "Why Snow Is White", "Snow Explained"),
    ),
    Topic(
        "bread",
        ("How is bread made?", "Why does bread rise?", "What is in bread?", "Tell me about bread."),
        ("flour", "yeast", "gas", "baking"),
        (
            "Bread is made from flour, water and yeast; the yeast makes gas that lifts the dough before baking.",
            "Yeast makes gas bubbles in the dough, so the bread rises, and baking sets it.",
        ),
        ("How Bread Is Made", "Why Bread Rises", "Baking Bread"),
    ),
    Topic(
        "wind",
        ("Why does the wind blow?", "What causes wind?", "Where does wind come from?", "Tell me about the wind."),
        ("pressure", "heat", "air", "movement"),
        (
            "Wind blows because the sun heats air unevenly, and air moves from high pressure to low pressure.",
            "Uneven heating makes pressure differences, and air flows between them as wind.",
        ),
        ("What Causes Wind", "Why the Wind Blows", "Wind Explained"),
    ),
)

GREETINGS = ("Hello!", "Hi!", "Hello, who are you?", "Hi there.", "What can you do?")
GREETING_REPLY = "Hello! I am Whale, a tiny demo model. Ask me about the sky, the sea, plants, stars, rain or coffee."
