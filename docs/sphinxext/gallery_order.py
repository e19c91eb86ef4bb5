"""The order of the examples in the gallery: from first steps to real data."""

ORDER = (
    "plot_damped_sine.py",
    "plot_grid_search_layers.py",
    "plot_compare_models.py",
    "plot_pipeline_window.py",
    "plot_real_series.py",
    "plot_global_panel.py",
)


class ExampleOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``.

    Examples listed in ``ORDER`` come first, in that order; any other example
    follows, sorted by file name.

    Parameters
    ----------
    src_dir : str
        The gallery's source folder (unused).
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in ORDER:
            return (ORDER.index(filename), filename)
        return (len(ORDER), filename)
