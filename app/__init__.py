"""Tutorium: a backend for live online tutoring on Daily.co."""
