"""Pages with charts from `blazepose bench` JSON: one run (`bench --report`, `bench report`)
or several side by side (`bench compare`). Needs the [report] extra (matplotlib)."""
