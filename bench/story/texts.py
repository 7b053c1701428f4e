"""The catalogue's story texts, one per line, in a seeded random order: the input of the
encoder's throughput example (`cargo run --release -p anirec-encoder --example throughput --
TEXTS N`). Each line is `NAME. Genres: GENRES. SYNOPSIS`, close to what `anirec train` embeds
(it adds the English title, which anime_with_synopsis.csv does not hold).

    python3 bench/story/texts.py ../shared/data/mal2020 > /tmp/texts.txt
"""

import csv
import random
import sys
from pathlib import Path


def main():
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/mal2020")
    with (data / "anime_with_synopsis.csv").open(encoding="utf-8", newline="") as f:
        lines = [
            f"{row['Name']}. Genres: {row['Genders']}. {row['sypnopsis']}".replace("\n", " ").replace("\r", " ")
            for row in csv.DictReader(f)
        ]
    random.Random(1).shuffle(lines)
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
