"""Pictures: files are written in the asked format, and a pattern shows itself in Jupyter."""

import pytest

from crystalgroups import pattern
from crystalgroups.errors import CrystalGroupsError
from crystalgroups.examples import graphene_pattern
from crystalgroups.plot import palette, plot_pattern_grid

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kind", ["matrix", "graph"])
@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_save_writes_the_format(tmp_path, kind, suffix):
    path = tmp_path / f"p.{suffix}"
    pattern("tp", (2, 2)).save(path, kind=kind)
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) if suffix == "png" else b"<svg" in data[:2000]


def test_repr_png_for_jupyter():
    assert pattern("cP", (2, 2, 2))._repr_png_().startswith(PNG_MAGIC)


def test_matrix_picture_shows_every_colour():
    p = pattern("aP", (2, 2, 2))
    ax = p.plot()
    image = ax.get_images()[0].get_array()
    assert (image == p.edge_colors).all()


def test_bad_suffix_and_kind():
    with pytest.raises(CrystalGroupsError, match="png"):
        pattern("tp", (2, 2)).save("picture.bmp")
    with pytest.raises(CrystalGroupsError, match="matrix"):
        pattern("tp", (2, 2)).plot(kind="pie")


def test_grid_and_sparse_graph():
    full, sparse = graphene_pattern()
    ax = full.plot(kind="graph", edge_index=sparse.edge_index)
    assert len(ax.patches) == sparse.edge_index.shape[1]
    fig = plot_pattern_grid([full, pattern("hp", (2, 2))], ncols=2)
    assert len(fig.axes) == 2


def test_palette_colours_are_distinct():
    for k in (3, 12, 40):
        colours = palette(k)
        assert len({tuple(c) for c in colours.round(4)}) == k


def test_large_patterns_show_a_summary_and_kinds_are_checked(tmp_path):
    import time

    from crystalgroups.plot import MAX_MATRIX_NODES

    big = pattern("cP", (9, 9, 9))
    assert big.num_nodes > MAX_MATRIX_NODES
    start = time.perf_counter()
    png = big._repr_png_()
    assert png.startswith(PNG_MAGIC) and time.perf_counter() - start < 20
    big.save(tmp_path / "s.png", kind="summary")
    with pytest.raises(CrystalGroupsError, match="expected kind among"):
        pattern("tp", (2, 2)).save(tmp_path / "x.png", kind="matrx")
    with pytest.raises(CrystalGroupsError, match="edge_index"):
        big.plot(kind="graph")


def test_legends_and_sparse_patterns_draw(tmp_path):
    from crystalgroups.plot import plot_pattern_graph, plot_pattern_matrix

    ax = plot_pattern_matrix(pattern("tp", (2, 2)))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["colour 0", "colour 1", "colour 2"]
    full, sparse = graphene_pattern()
    ax = plot_pattern_graph(sparse)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == ["edge colour 0", "edge colour 1", "edge colour 2"] or "node colour 0" in labels
