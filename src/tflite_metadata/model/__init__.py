"""Layer 3, the model: reading a ``.tflite`` lazily and splicing metadata into it.

* :mod:`.reader`: :class:`~.reader.ModelView` reads tensors, buffers and
  metadata entries on demand; :func:`~.reader.model_bytes` turns every model
  argument into a buffer;
* :mod:`.splice`: a new root and the metadata in a small head before the
  untouched model bytes;
* :mod:`.populate`: metadata plus associated files into a model, in memory or
  file to file, and tflite-support's ``MetadataPopulator`` over it;
* :mod:`.display`: tflite-support's ``MetadataDisplayer`` and ``convert_to_json``.

Nothing here knows about tasks.
"""
