"""Layer 1, the formats: the schemas declared once, and reading, encoding and printing them.

* :mod:`.declarations`: the classes a schema is declared with (tables, enums,
  unions, fields, the :class:`~.declarations.Schema` that gathers them);
* :mod:`.metadata_schema`: the metadata schema (``metadata_schema.fbs`` 1.5.0), as
  declarations that drive everything else here;
* :mod:`.model_schema`: TFLite's whole current model schema (``schema.fbs``),
  declared the same way; the field ids the package reads, splices and builds
  models with are derived from it;
* :mod:`.custom_metadata`: the schemas of known custom metadata (MediaPipe's
  ``DETECTOR_METADATA`` and ``SEGMENTER_METADATA``), keyed by their names, and
  how to recognize their ``.fbs`` files;
* :mod:`.flatbuf`: bounds-checked, lazy reading of any FlatBuffer;
* :mod:`.codec`: the object API and readers flatc would generate, made from a
  schema's declarations; :mod:`.flatc_module` lays them out as flatc's Python module;
* :mod:`.json_format`: flatc's JSON text; :mod:`.version`: the minimum parser version.

Nothing here knows about models' files, associated files or tasks.
"""
