"""Privacy under PIPL: classification of personal fields, masking, encryption at rest, consent,
data-subject requests, erasure and retention, controlled exports and archive borrowing."""
