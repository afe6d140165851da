"""The bundled Hub's generated listing: paged like the real tree API, through the real client."""

from __future__ import annotations

from pathlib import Path

from pygestor.testing.hub import GeneratedListing, HubServer, LocalHub, publish


def test_generated_listing_pages_like_the_tree_api(tmp_path: Path) -> None:
    from huggingface_hub import HfApi

    hub = LocalHub(tmp_path / "hub")
    gen = GeneratedListing(2_500, subsets=3, seed=1)
    publish(hub, "gen/many", gen)
    with HubServer(hub) as server:
        api = HfApi(endpoint=server.endpoint)
        entries = list(api.list_repo_tree("gen/many", recursive=True, repo_type="dataset"))
        files = [e for e in entries if hasattr(e, "blob_id")]
        assert [(f.path, f.size, f.lfs.sha256) for f in files] == list(gen.files())
        assert [e.path for e in entries if not hasattr(e, "blob_id")] == [
            "data",
            "data/s0",
            "data/s1",
            "data/s2",
        ]
        sub = list(api.list_repo_tree("gen/many", path_in_repo="data/s2", repo_type="dataset"))
        assert len(sub) == gen.subset_size(2) == 833
