"""Copy the real vision photos into ``models/data/`` from snapshots of their public repositories.

Run once by a maintainer (``python models/data/ingest_vision.py --mirror DIR``), never at build
time: ``make models`` reads only what this wrote and committed. Photos are downscaled (long side
256 px, JPEG quality 85, EXIF dropped after orientation is applied) so the sets fit the
repository; every held-out file's sha256 goes into ``models/data/HELDOUT.sha256`` (the test
``tests/models/test_heldout_guard.py`` checks that training never opens one).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
from pathlib import Path

from PIL import Image, ImageOps

DATA = Path(__file__).resolve().parent
LONG_SIDE = 256
QUALITY = 85
VDS = "VadimsRomanovskis+vehicle-damage-severity-assessment"
VDS_ROOT = "data/vehicle-damage-severity-assessment-dataset"
# VDS split -> our pile. The test split is CarDD (research-only terms): not copied.
VDS_PILES = {"train": "train", "val": "heldout"}
# Oxford-IIIT Pet photos (CC BY-SA 4.0), a stratified sample of 10 per breed (breed model)
PETS = "LTSACH+AILearningHub"
PETS_ROOT = "datasets/oxford-pets/data/sample_images"
# More Oxford-IIIT photos of the listed breeds, from two other copies:
# repository -> (folder, breeds taken, at most this many new photos per breed)
LISTED_SOURCES = {
    # its dev and test splits, 40 photos a breed, already resized to 299 x 299 (not cropped)
    "Kostyan0005+Oxford-Pet-Project": ("data/oxford_pet", ("shiba_inu", "beagle"), 40),
    # five breeds as downloaded (full size); fold_1's train + val hold each photo once
    "kritzerenkrieg+multiclass-deeplearning-oxford-pets": (
        "splitted_data_kfold/fold_1",
        ("pomeranian",),
        40,
    ),
}
OTHER_SOURCES = {
    # repository -> (folder inside it, files to skip)
    "MarinaNasser+The-Oxford-IIIT-Pet": ("tests/images", ()),
    "GT15725128838+The-Oxford-IIIT-Pet-Dataset-": ("test_img", ()),
    "google+cameratrapai": (
        "test_data",
        # a vehicle is not "not a car"; the others are modified copies of african_elephants.jpg
        (
            "vehicle.jpg",
            "african_elephants_bw.jpg",
            "african_elephants_cmyk.jpg",
            "african_elephants_truncated_file.jpg",
            "african_elephants_with_exif_orientation.jpg",
        ),
    ),
}


def git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True).stdout


def downscale(blob: bytes) -> bytes:
    """Upright RGB, long side at most LONG_SIDE, JPEG q85 without metadata."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(blob))).convert("RGB")
    image.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()


def write(path: Path, blob: bytes, heldout: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    if "/heldout/" in path.as_posix():
        rel = path.relative_to(DATA).as_posix()
        heldout.append(f"{hashlib.sha256(blob).hexdigest()}  {rel}")


def ingest_vds(mirror: Path, heldout: list[str]) -> None:
    repo = mirror / VDS / "repo"
    for name in git(repo, "ls-tree", "-r", "--name-only", "HEAD", VDS_ROOT).decode().split():
        parts = name.split("/")
        if len(parts) != 5 or parts[2] not in VDS_PILES or not name.endswith(".jpg"):
            continue
        pile, label, file = VDS_PILES[parts[2]], parts[3], parts[4]
        blob = downscale(git(repo, "show", f"HEAD:{name}"))
        write(DATA / "vehicle-damage" / pile / label / file, blob, heldout)


def ingest_others(mirror: Path, heldout: list[str]) -> None:
    """Real photos of things that are not cars; every other file (sorted) is held out."""
    for source, (folder, skip) in OTHER_SOURCES.items():
        repo = mirror / source / "repo"
        names = sorted(git(repo, "ls-tree", "-r", "--name-only", "HEAD", folder).decode().split())
        photos = [n for n in names if n.lower().endswith((".jpg", ".jpeg"))]
        photos = [n for n in photos if n.rsplit("/", 1)[-1] not in skip]
        for index, name in enumerate(photos):
            pile = "heldout" if index % 2 else "train"
            prefix = source.split("+", 1)[0].lower()
            file = f"{prefix}-{Path(name).stem.lower()}.jpg"
            blob = downscale(git(repo, "show", f"HEAD:{name}"))
            write(DATA / "not-a-car" / pile / file, blob, heldout)


def oxford_name(file: str) -> str:
    """``Abyssinian_107.jpg`` / ``marinanasser-abyssinian_107.jpg`` -> ``abyssinian_107``."""
    return Path(file).stem.split("-", 1)[-1].lower()


def by_number(names: list[str]) -> list[str]:
    """Oxford-IIIT files sorted by their number (``beagle_9`` before ``beagle_10``)."""
    return sorted(names, key=lambda n: int(oxford_name(n).rsplit("_", 1)[1]))


def split_pets(repo: Path, by_breed: dict[str, list[str]], heldout: list[str]) -> None:
    """Per breed, sorted by Oxford number, every second photo is held out."""
    for photos in by_breed.values():
        for index, name in enumerate(by_number(photos)):
            pile = "heldout" if index % 2 else "train"
            blob = downscale(git(repo, "show", f"HEAD:{name}"))
            write(DATA / "pets" / pile / f"{oxford_name(name)}.jpg", blob, heldout)


def ingest_pets(mirror: Path, heldout: list[str]) -> None:
    """The Oxford-IIIT Pet sample (10 photos of each of its 37 breeds) for the breed model,
    then more photos of the listed breeds from ``LISTED_SOURCES``.

    A photo already taken (the same Oxford file through another copy, here or in
    ``not-a-car/``) is skipped, so no photo sits in two piles. The sample is split first and
    on its own, so adding sources never moves one of its photos to the other pile; each
    source's new photos are then split by the same rule.
    """
    have = {oxford_name(p.name) for p in (DATA / "not-a-car").rglob("*.jpg")}
    sources = {PETS: (PETS_ROOT, None, None), **LISTED_SOURCES}
    for source, (folder, breeds, cap) in sources.items():
        repo = mirror / source / "repo"
        names = git(repo, "ls-tree", "-r", "--name-only", "HEAD", folder).decode().split()
        photos = [n for n in names if n.endswith((".jpg", ".png"))]
        if breeds:
            photos = [n for n in photos if oxford_name(n).rsplit("_", 1)[0] in breeds]
        by_breed: dict[str, list[str]] = {}
        for name in by_number(photos):
            stem = oxford_name(name)
            breed = stem.rsplit("_", 1)[0]
            if stem not in have and (cap is None or len(by_breed.get(breed, [])) < cap):
                by_breed.setdefault(breed, []).append(name)
                have.add(stem)
        split_pets(repo, by_breed, heldout)


SETS = {"vehicle-damage": ingest_vds, "not-a-car": ingest_others, "pets": ingest_pets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=sorted(SETS))
    args = parser.parse_args()
    heldout: list[str] = []
    for name in args.sets:
        SETS[name](args.mirror, heldout)
    listing = DATA / "HELDOUT.sha256"
    keep = [
        line
        for line in listing.read_text().splitlines()
        if not line.split("  ", 1)[-1].startswith(tuple(f"{name}/" for name in args.sets))
    ]
    listing.write_text("\n".join([*keep, *sorted(heldout, key=lambda line: line[66:])]) + "\n")
    print(f"held out {len(heldout)} files")


if __name__ == "__main__":
    main()
