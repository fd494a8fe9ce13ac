"""Procedural training data: car-claim photos and their rejects, dogs by breed, policy books.

Nothing is downloaded: every image is drawn with Pillow/numpy from a seeded generator, so a
build is reproducible and runs on an air-gapped machine.
"""
