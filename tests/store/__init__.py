"""Tests of studyapp.store: the profile database, its migrations, backups and repair."""
