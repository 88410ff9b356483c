"""Composition root: builds settings, store and services, then the window. Nothing global."""

from __future__ import annotations

import argparse

from osc_console.config import default_actor, parse_agency, parse_realm, workstation_code
from osc_console.models.events import Author
from osc_console.paths import data_dir, store_path
from osc_console.store.event_store import Store


def run_console(args: argparse.Namespace) -> int:
    realm = parse_realm(args.realm)
    directory = data_dir(args.data_dir)
    author = Author(
        actor=default_actor(args.user),
        agency=parse_agency(args.agency),
        workstation=workstation_code(directory, args.workstation),
        realm=realm,
    )
    store = Store.open(store_path(directory, realm), realm)
    if args.demo and store.event_count() == 0:
        from osc_console.services.demo import DemoSpec, seed_store

        seed_store(store, DemoSpec(realm=realm))
    from osc_console.ui.main_window import run

    try:
        return run(store, author)
    finally:
        store.close()
