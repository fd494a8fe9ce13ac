"""A synthetic book of pet-insurance policies with a documented pricing rule.

The annual premium (KRW) of a policy is::

    premium = BASE[breed] * age_factor(age) * (weight / TYPICAL_WEIGHT[breed]) ** 0.25
              * (1.05 if male else 1.0) * (0.92 if neutered else 1.0) * REGION[region]
              * exp(N(0, NOISE_SIGMA)),  rounded to 10 KRW

    age_factor(age) = 0.85 + 0.04 * age + 0.009 * age ** 2      (age in years, 0.2 .. 15)

Breed base rates follow claim risk; only the breeds the breed model lists are priced (the table
once also held golden and labrador retrievers, poodle, Jindo, maltese, bulldog and dachshund,
dropped with them: ``pet_photos.DROPPED``); region factors follow vet prices. The noise term is the
part no model can learn: with sigma 0.05 the best possible MAPE is about 4%.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..pet_photos import LISTED

# The breed model's label order (one list); breeds it dropped have no price here either
# (pet_photos.DROPPED: they answer unknown-breed, no quote).
BREEDS: tuple[str, ...] = LISTED

BASE: dict[str, float] = {
    "shiba_inu": 300_000,
    "pomeranian": 310_000,
    "beagle": 300_000,
}
TYPICAL_WEIGHT: dict[str, float] = {
    "shiba_inu": 10.0,
    "pomeranian": 2.5,
    "beagle": 11.0,
}
REGIONS: tuple[str, ...] = (
    "seoul",
    "busan",
    "incheon",
    "daegu",
    "gwangju",
    "daejeon",
    "ulsan",
    "gyeonggi",
    "other",
)
REGION_FACTOR = (1.15, 1.05, 1.04, 1.0, 0.95, 0.97, 1.0, 1.08, 0.9)
REGION_SHARE = (0.25, 0.08, 0.07, 0.06, 0.03, 0.03, 0.02, 0.3, 0.16)
NOISE_SIGMA = 0.05
MAX_AGE = 15.0


@dataclass(frozen=True)
class Book:
    """Policies as columns; integer columns index :data:`BREEDS` / :data:`REGIONS`."""

    breed: NDArray[np.int64]
    age_years: NDArray[np.float32]
    weight_kg: NDArray[np.float32]
    sex: NDArray[np.int64]
    neutered: NDArray[np.int64]
    region: NDArray[np.int64]
    premium: NDArray[np.float32]

    def features(self) -> dict[str, NDArray[np.generic]]:
        """Model inputs by tensor name, each [N, 1]."""
        columns = ("breed", "age_years", "weight_kg", "sex", "neutered", "region")
        return {name: getattr(self, name).reshape(-1, 1) for name in columns}


def age_factor(age: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.85 + 0.04 * age + 0.009 * age**2


def expected_premium(
    breed: NDArray[np.int64],
    age: NDArray[np.float64],
    weight: NDArray[np.float64],
    sex: NDArray[np.int64],
    neutered: NDArray[np.int64],
    region: NDArray[np.int64],
) -> NDArray[np.float64]:
    """The rule without noise (what a perfect model would predict)."""
    base = np.array([BASE[b] for b in BREEDS])[breed]
    typical = np.array([TYPICAL_WEIGHT[b] for b in BREEDS])[breed]
    premium: NDArray[np.float64] = (
        base
        * age_factor(age)
        * (weight / typical) ** 0.25
        * np.where(sex == 1, 1.05, 1.0)
        * np.where(neutered == 1, 0.92, 1.0)
        * np.array(REGION_FACTOR)[region]
    )
    return premium


def book(size: int, seed: int) -> Book:
    """Draw ``size`` policies: young dogs are more common, weights scatter around the breed's."""
    rng = np.random.default_rng(seed)
    breed = rng.integers(0, len(BREEDS), size)
    age = np.clip(rng.gamma(2.0, 2.2, size), 0.2, MAX_AGE)
    typical = np.array([TYPICAL_WEIGHT[b] for b in BREEDS])[breed]
    weight = typical * np.exp(rng.normal(0.0, 0.18, size))
    sex, neutered = rng.integers(0, 2, size), (rng.random(size) < 0.6).astype(np.int64)
    region = rng.choice(len(REGIONS), size, p=REGION_SHARE)
    clean = expected_premium(breed, age, weight, sex, neutered, region)
    premium = np.round(clean * np.exp(rng.normal(0.0, NOISE_SIGMA, size)), -1)
    return Book(
        breed.astype(np.int64),
        age.astype(np.float32),
        weight.astype(np.float32),
        sex.astype(np.int64),
        neutered,
        region.astype(np.int64),
        premium.astype(np.float32),
    )
