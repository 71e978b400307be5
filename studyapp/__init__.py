"""studyapp: an offline course on how a pretrained base model becomes an assistant."""

__version__ = "0.1.0"
