"""The English sentence of every error code (one template per code, formatted from the values).

``ConvScopeError(code, **values)`` renders ``MESSAGES[code].format(**values)``; the GUI keeps its own
catalogue per language with the same codes and the same named fields (``resources/i18n/ko.errors.json``;
a test checks both). Codes are stable: rename a code only together with every catalogue.
"""

from __future__ import annotations

_IDX_HINT = "Download the file again (or delete it so that ConvScope downloads it)."

MESSAGES: dict[str, str] = {
    # --- shape arithmetic and layer hyperparameters (engine/shapes.py, engine/layers.py) -----------
    "not_whole_number": "{owner}: {what} must be a whole number, got {value!r}.",
    "too_small": "{owner}: {what} must be at least {minimum}, got {value}.",
    "negative_padding": "{owner}: padding must be 0 or more, got {padding}.",
    "input_empty": "{owner}: the input is empty ({size} pixels); an earlier layer shrank it to nothing.",
    "window_too_large": (
        "{what} {size} does not fit a {n}x{n} input with padding {padding}: output would be "
        "({n} + 2*{padding} - {size})/{stride} + 1 = {out}. Use a smaller {what} (at most {most}), "
        "padding='same', or remove a pooling layer before it."),
    "window_too_large_padded": (
        "{what} {size} does not fit a {n}x{n} input with padding {before}+{after}: use a smaller {what} or "
        "more padding."),
    "bad_padding_mode": "{owner}: padding must be 'valid', 'same' or a number of pixels, got {padding!r}.",
    "layer_with_input": "{layer} with input {shape}: {error}",
    "unknown_activation": "{layer_class}: unknown activation {activation!r}; choose one of {choices}.",
    "unknown_initializer_name": "unknown initializer {name!r}; choose one of {choices}.",
    "unknown_initializer": "{layer_class}: unknown {what} {value!r}; choose one of {choices}.",
    "not_square": "{owner}: only square {what}s are supported, got {value}; use one number such as 3.",
    "image_layer_after_flatten": (
        "{layer_class} needs an image input (height x width x channels), but receives a flat vector of {shape} "
        "values. Put {layer_class} layers before Flatten, not after it."),
    "unknown_conv_mode": "{owner}: mode must be 'cross_correlation' or 'convolution', got {mode!r}.",
    "output_vanishes": (
        "{owner}: the output would be {out_h}x{out_w} pixels for input {shape}; use a smaller kernel or stride, "
        "or padding='same'."),
    "filter_needs_build": "Conv2D '{name}': build the model before setting a filter.",
    "filter_index_out_of_range": "Conv2D '{name}' has filters 0..{last}; got filter {index}.",
    "filter_kernel_shape": "Conv2D '{name}': a kernel for this layer is {k}x{k} (x {channels} channels), got {got}.",
    "dense_needs_flat": (
        "Dense needs a flat input, but receives {shape} ({dims}-D feature maps). Add a Flatten layer before this "
        "Dense layer."),
    "dropout_rate_not_number": "Dropout '{name}': rate must be a number between 0 and 1, got {rate!r}.",
    "dropout_rate_range": (
        "Dropout '{name}': rate is the fraction of values dropped and must be in [0, 1), got {rate}."),
    "layer_config_malformed": "a layer description needs 'class_name' and 'config', got {config!r}.",
    "unknown_layer_type": "unknown layer type {class_name!r}; known types: {choices}.",
    "layer_bad_argument": "{layer_class}: {detail}",
    "layer_bad_value": "{layer_class} '{name}': {detail}",
    # --- the network (engine/network.py) --------------------------------------------------------
    "bad_input_shape": "the input shape must be (channels, height, width) such as (1, 28, 28), got {shape!r}.",
    "no_layers": "the model has no layers: add at least Flatten and Dense(number of classes).",
    "in_layer": "layer {layer_index} ({layer_name}): {error}",
    "not_built": "the model is not built yet: call build(input_shape) first.",
    "summary_needs_shape": "give an input shape or build the model before asking for its summary.",
    "wrong_class_count": (
        "the last layer outputs {shape} values per image, but the data has {classes} classes. End the model with "
        "Flatten and Dense({classes})."),
    "input_shape_mismatch": "the model expects images of {expected}, got {got}.",
    "evaluate_needs_classes": "evaluate needs a model that outputs one score per class.",
    "one_image_only": "input_gradient takes one image, got a batch of {count}.",
    "weights_layer_count": "got weights for {got} layers, but the model has {expected} layers.",
    "weights_keys": "layer '{name}' has parameters {expected}, got {got}.",
    "weights_shape": "layer '{name}' parameter {key} has shape {expected}, got {got}.",
    "flat_weights_size": "expected {expected} values, got {got}.",
    "model_config_malformed": "a model description needs a 'layers' list.",
    # --- sizes a student's computer can hold (engine/limits.py) ----------------------------------
    "too_many_layers": (
        "the model has {count:,} layers; ConvScope builds at most {limit:,}. Even very deep networks such as "
        "ResNet-152 have a few hundred: remove layers."),
    "layer_too_wide": (
        "{layer_class} '{name}' asks for {value:,} {what}; at most {limit:,} fit on this computer. Use fewer {what}."),
    "input_too_large": (
        "the input {shape} holds {pixels:,} values per image; at most {limit:,} (e.g. 1024 x 1024 x 1) fit here. "
        "Use smaller images."),
    "too_many_params": (
        "the model would have {params:,} parameters; at most {limit:,} fit in memory for training here. Use fewer "
        "filters or units, or add pooling before Flatten."),
    # --- losses and training (engine/losses.py, engine/training.py) ------------------------------
    "loss_needs_scores": (
        "the loss needs one score per class, shape (N, K); the model outputs {shape} per image. End the model "
        "with Flatten and Dense(number of classes)."),
    "label_count": "expected {count} labels for {count} images, got labels of shape {shape}.",
    "label_range": (
        "labels must be class ids 0..{last} because the model has {classes} outputs; got labels {low}..{high}. "
        "Make the last Dense layer as wide as the number of classes."),
    "train_images_not_4d": "training images must be an array (N, C, H, W), got shape {shape}.",
    "train_shape_mismatch": (
        "the model was built for {model_shape} (C, H, W) images but the data is {data_shape}: rebuild the model "
        "for this dataset."),
    "train_label_count": "{images} training images but {labels} labels.",
    "empty_training_set": "the training set is empty.",
    "model_not_classifier": "the model's last layer must output one score per class: end it with Flatten and Dense.",
    "labels_exceed_outputs": (
        "the labels go up to {top} ({classes} classes) but the model outputs {outputs} scores: set the last Dense "
        "layer's units to {classes}."),
    "batch_size_too_small": "the batch size must be at least 1, got {value}.",
    "epochs_negative": "the number of epochs must be 0 or more, got {value}.",
    # --- presets and optimizers ----------------------------------------------------------------
    "unknown_preset": "unknown preset {name!r}; choose one of {choices}.",
    "optimizer_config_malformed": "an optimizer description needs 'class_name' and 'config', got {config!r}.",
    "unknown_optimizer": "unknown optimizer {name!r}; choose one of {choices}.",
    "optimizer_bad_argument": "{optimizer}: {detail}",
    "learning_rate_not_positive": "the learning rate must be a positive number, got {value}.",
    # --- the convolution theater (engine/theater.py) ---------------------------------------------
    "theater_image_shape": "The theater needs an image of shape (C, H, W) or (H, W); got {shape}.",
    "theater_unknown_operation": "Operation must be one of {choices}, got {op!r}.",
    "theater_unknown_mode": "Mode must be 'cross_correlation' or 'convolution', got {mode!r}.",
    "theater_needs_kernel": "A convolution needs a kernel (filter): pick a preset or a learned filter.",
    "theater_kernel_not_square": "The kernel must be a grid (KH, KW) or (C, KH, KW); got {shape}.",
    "theater_kernel_depth": (
        "The filter has {kernel_channels} channel(s) but the input has {channels}: a filter must be as deep as its "
        "input ({h}x{w}x{channels} needs a KxKx{channels} filter). Pick an input with {kernel_channels} channel(s) "
        "or one input channel of the filter."),
    "theater_pool_padding": (
        "Pooling padding {padding!r} is as wide as the {kh}x{kw} window: some windows would hold only virtual "
        "pixels. Use padding 'valid', 'same' or at most {most}."),
    "grid_not_a_number": (
        "Channel {channel}, row {row}, column {column} holds {text!r}, which is not a number: type values such as "
        "-1, 0.5 or 2, separated by spaces, tabs or commas."),
    "grid_ragged_row": (
        "Channel {channel}, row {row} has {got} number(s) but the grid is {width} wide: every row needs the same "
        "number of values."),
    "grid_empty": "There are no numbers to read: type or paste rows of numbers, one row per line.",
    "grid_channel_heights": (
        "The channels have different numbers of rows ({heights}): every channel of a grid needs the same size."),
    "grid_rows_out_of_range": "A grid of {got} row(s) cannot be shown: use 1 to {most} rows.",
    "grid_columns_out_of_range": "A grid of {got} column(s) cannot be shown: use 1 to {most} columns.",
    "grid_channels_out_of_range": "A grid of {got} channel(s) cannot be shown here: use 1 to {most} channels.",
    # --- model files (engine/persistence.py) ---------------------------------------------------
    "save_unbuilt": "build the model before saving it.",
    "metadata_not_json": "the model's metadata cannot be saved as JSON: {detail}.",
    "model_write_failed": "could not write {path}: {detail}.",
    "model_file_missing": "{path} does not exist or is not a file.",
    "model_read_failed": "could not read {name}: {detail}.",
    "not_model_file_kind": (
        "{name} is not a ConvScope model file ({what}). Choose a model file saved by ConvScope (File > Save model)."),
    "empty_file": "an empty file",
    "not_npz_archive": "not an .npz archive",
    "not_npz": (
        "{name} is not a ConvScope model file (it could not be read as .npz: {detail}). Choose a file saved by "
        "ConvScope."),
    "no_architecture": "{name} holds arrays but no model architecture: it was not saved by ConvScope.",
    "architecture_text_damaged": "{name}: the architecture or metadata text is damaged ({detail}).",
    "not_model_file": "{name} is not a ConvScope model file.",
    "unknown_file_version": "{name}: unknown model file version {version!r}.",
    "newer_file_version": (
        "{name} was saved by a newer ConvScope (file version {version}, this one reads up to {supported}). "
        "Update ConvScope to open it."),
    "weights_missing": "{name}: the weights of layer {index} ({layer}, {key}) are missing.",
    "weights_wrong_shape": (
        "{name}: layer {index} ({layer}) {key} has shape {got} in the file but the architecture needs {expected}. "
        "The file is damaged."),
    "weights_not_numbers": "{name}: layer {index} ({layer}) {key} holds {dtype} values, not numbers.",
    "weights_not_finite": "{name}: layer {index} ({layer}) {key} holds NaN or infinite values.",
    "unexpected_arrays": "{name}: unexpected arrays {arrays} that the architecture does not use.",
    "no_input_shape": "{name}: the architecture has no input shape.",
    "no_layer_list": "{name}: the architecture has no valid list of layers.",
    "architecture_damaged": "{name}: the architecture is damaged ({detail}).",
    "architecture_invalid": "{name}: the architecture is not valid ({error}).",
    "weight_count_mismatch": (
        "{name}: the file holds {stored:,} weights but its architecture needs {needed:,}. The file is damaged."),
    "load_into_unbuilt": "build the model before loading weights into it.",
    "file_input_shape_differs": "{name} is for {theirs} images but this model takes {ours}.",
    "file_layer_count_differs": (
        "{name} holds a model with {theirs} layers but this model has {ours}: open it as a new model instead."),
    "file_layer_type_differs": (
        "{name}: layer {index} is {theirs} in the file but {ours} ({layer}) in this model: the architectures "
        "differ; open the file as a new model instead."),
    # --- ONNX export (engine/onnx_export.py) ----------------------------------------------------
    "onnx_missing": (
        "ONNX export needs the optional 'onnx' package, which is not installed ({detail}). Install it with:  "
        "pip install onnx   (or: pip install 'convscope[onnx]')."),
    "onnx_activation": "layer '{layer}': activation {activation!r} has no ONNX export; use one of {choices}.",
    "onnx_unbuilt": "the model is not built yet: build it for an input shape before exporting.",
    "onnx_no_weights": "layer '{layer}' has no weights: build the model before exporting.",
    "onnx_dense_needs_flat": (
        "layer '{layer}': Dense receives {shape} but ONNX Gemm needs a flat input; add Flatten before it."),
    "onnx_unsupported_layer": "layer '{layer}' ({layer_class}) has no ONNX export.",
    "onnx_probabilities_need_flat": "probabilities need a flat output, but the model outputs {shape}.",
    "onnx_write_failed": "could not write the ONNX file {path!r}: {detail}. Choose a folder you can write to.",
    # --- images (engine/imaging.py) -------------------------------------------------------------
    "image_data_empty": "the image data is empty (0 bytes).",
    "image_missing": "{name} does not exist (looked for {path}).",
    "image_is_folder": (
        "{name} is a folder, not an image file. To train on a folder of images, open it as a dataset (one "
        "subfolder per class)."),
    "image_unreadable": "{name} cannot be read: {detail}.",
    "image_file_empty": "{name} is empty (0 bytes): it is not an image. Save the picture again.",
    "image_file_too_large": (
        "{name} is {megabytes:.0f} MB, larger than the {limit} MB accepted for one image. Use a smaller picture."),
    "not_an_image": "{name} is not an image that can be read ({formats} expected).",
    "image_decompression_bomb": "{name} is far too large to decode safely ({detail}). Shrink the picture first.",
    "image_no_pixels": "{name} has no pixels ({width}x{height}).",
    "image_too_many_pixels": (
        "{name} is {width}x{height} pixels ({megapixels:.0f} megapixels), more than the {limit} megapixels "
        "accepted. Shrink it first."),
    "image_truncated": (
        "{name} is truncated or damaged ({detail}): part of the file is missing. Save or download it again."),
    "image_undecodable": "{name} could not be decoded ({detail}).",
    "image_mode_unsupported": "images in Pillow mode {mode!r} are not supported ({detail}).",
    "image_array_invalid": "expected an image array, got {dtype} of shape {shape}.",
    "image_array_shape": "an image must be (H, W), (H, W, 3) or (H, W, 4); got an array of shape {shape}.",
    "image_dtype_unsupported": "unsupported image data type {dtype}.",
    "image_channels": "a model input needs 1 (grayscale) or 3 (RGB) channels, not {channels}.",
    "image_input_shape": "input_shape must be (channels, height, width), got {shape!r}.",
    "image_input_shape_values": "input_shape must be (1 or 3, height, width) with positive sizes, got {shape!r}.",
    "unknown_preprocess_style": "unknown preprocessing style {style!r}; choose 'fit' or 'mnist'.",
    "not_image_type": "not an image file type ({suffix}; {extensions} are read)",
    "image_too_large_for_memory": "too large to decode in memory",
    # --- IDX files (engine/datasets/idx.py) ----------------------------------------------------
    "idx_too_short": (
        "{where} is not an IDX file: it holds only {size} bytes, fewer than the 4-byte header. " + _IDX_HINT),
    "idx_bad_magic": (
        "{where} is not an IDX file: its magic number is {magic} (0x{magic:08X}); IDX files start with two zero "
        "bytes (images 2051, labels 2049). " + _IDX_HINT),
    "idx_bad_type": (
        "{where} has an unknown IDX element type 0x{type_code:02X} (known: 0x08 uint8, 0x09 int8, 0x0B int16, "
        "0x0C int32, 0x0D float32, 0x0E float64). " + _IDX_HINT),
    "idx_bad_ndim": "{where} declares {ndim} dimensions; an IDX file has 1 to 8. " + _IDX_HINT,
    "idx_unreadable": "{where} could not be read: {detail}. " + _IDX_HINT,
    "idx_header_truncated": "{where} is truncated inside its header. " + _IDX_HINT,
    "idx_missing": "{where} does not exist or is not a file.",
    "idx_cannot_open": "{where} could not be opened: {detail}.",
    "idx_empty": "{where} is empty (0 bytes of {kind} data). " + _IDX_HINT,
    "idx_wrong_magic": (
        "{where} has magic number {magic} but {expected} was expected: are the image and label files swapped or "
        "misnamed?"),
    "idx_sizes_truncated": "{where} is truncated inside its header ({ndim} sizes announced). " + _IDX_HINT,
    "idx_wrong_shape": (
        "{where} holds an array of shape {dims} but {expected} was expected. Is it the right file for this "
        "dataset? " + _IDX_HINT),
    "idx_too_large": (
        "{where} declares {dims} values ({gigabytes:.1f} GB), more than the {limit:.0f} GB this app reads into "
        "memory: the header is probably corrupt."),
    "idx_truncated": (
        "{where} is truncated: its header promises {count} values ({dims}) = {nbytes} bytes of data but only "
        "{got} bytes follow. " + _IDX_HINT),
    "idx_extra_data": (
        "{where} has more data than its header declares ({dims}): the header or the file is corrupt. " + _IDX_HINT),
    "idx_bad_gzip": (
        "{where} is a damaged gzip file ({detail}): it was probably cut off while downloading. " + _IDX_HINT),
    "idx_cannot_store": "IDX cannot store {dtype} arrays (uint8, int8, int16, int32, float32, float64).",
    "idx_pair_counts": (
        "'{images}' holds {image_count} images but '{labels}' holds {label_count} labels: the two files do not "
        "belong together (mixed train/test or different datasets?). Use the matching pair."),
    "idx_pair_not_bytes": "'{images}' / '{labels}' must hold unsigned bytes (IDX type 0x08).",
    # --- datasets (engine/datasets/) -------------------------------------------------------------
    "dataset_array_layout": "{dataset}: {part} must be uint8 (N, C, H, W), got {dtype} {shape}.",
    "dataset_split_shapes": "{dataset}: training images are {train} but test images are {test}.",
    "dataset_label_count": "{dataset}: {images} {part} images but {labels} labels.",
    "image_label_count": "{images} images but {labels} labels.",
    "validation_split_not_number": "validation_split must be a number between 0 and 1, got {value!r}.",
    "validation_split_range": "validation_split must be at least 0 and below 1 (e.g. 0.2), got {value!r}.",
    "unknown_dataset": (
        "unknown dataset {name!r}: choose one of {choices}, or open a folder of images (one subfolder per class)."),
    "image_size_invalid": "image_size must be (height, width), got {value!r}.",
    "image_size_range": "image_size must be between 4 and 512 pixels per side, got {value!r}.",
    "folder_missing": "the folder '{folder}' does not exist.",
    "folder_is_file": "'{folder}' is a file; choose a folder that holds one subfolder per class.",
    "color_invalid": "color must be 'grayscale' or 'rgb', got {value!r}.",
    "folder_no_subfolders": (
        "'{folder}' has no subfolders. An image dataset needs one subfolder per class, each holding that class's "
        "pictures."),
    "folder_only_loose_images": (
        "'{folder}' has no subfolders. An image dataset needs one subfolder per class, each holding that class's "
        "pictures. It holds {count} images directly; move them into subfolders named after their class (e.g. "
        "'{name}/cats/', '{name}/dogs/')."),
    "folder_too_many_images": (
        "'{folder}' holds {count} images; at most {limit} fit in memory here. Use max_per_class or a smaller folder."),
    "folder_too_few_classes": (
        "'{folder}' has images for {count} class(es) ({names}); a classifier needs at least two subfolders with "
        "pictures."),
    "folder_class_unreadable": (
        "no readable image in the class folder(s) {classes} of '{folder}' ({skipped} files skipped, e.g. "
        "{example}: {reason})."),
    "folder_too_few_images": "'{folder}' has only {count} readable images; add more pictures to each class folder.",
    "folder_loose_images_ignored": (
        "{count} images directly in '{name}' were ignored: only images inside class subfolders are used."),
    "folder_subfolder_empty": "the subfolder '{name}' has no images and is not a class.",
    "folder_files_skipped": "{count} files were skipped (see the list of skipped files).",
    # --- MNIST / Fashion-MNIST (engine/datasets/mnist.py) ----------------------------------------
    "labels_beyond_classes": (
        "{where}: labels go up to {top}, but {dataset} has {classes} classes (0-{last}). These are not {dataset} "
        "files."),
    "other_dataset_files": (
        "{where} holds {other}, not {dataset} (both use the same file names). Put the {dataset} files in a folder "
        "of their own, e.g. '{folder}'."),
    "idx_files_missing": "'{folder}' is missing {names}.",
    "keras_npz_incomplete": "{where} is not a Keras {dataset} file: it lacks {missing}.",
    "keras_npz_damaged": "{where} is damaged ({detail}). Delete it; Keras or ConvScope will download it again.",
    "keras_npz_layout": (
        "{where}: {part} is {dtype} {shape} with {label_shape} labels; {dataset} has uint8 ({count}, 28, 28) images "
        "and ({count},) labels."),
    "download_folder_unwritable": (
        "cannot create the folder '{folder}' for downloads: {detail}. Choose a writable data folder (--data-dir)."),
    "download_http_error": "{url}: the server answered {status} {reason}.",
    "download_no_connection": "{url}: cannot connect ({reason}).",
    "download_size_mismatch": "{url}: the server offers {offered} bytes but the original file has {size}.",
    "download_cancelled": "{url}: download cancelled.",
    "download_broken": "{url}: the connection broke after {done} bytes ({detail}).",
    "download_too_long": "{url}: more than the expected {size} bytes arrived.",
    "download_incomplete": "{url}: the download stopped after {done} of {size} bytes.",
    "download_md5": "{url}: MD5 {got} differs from the published {expected} (a damaged or different file).",
    "download_sha256": "{url}: SHA-256 {got} differs from the expected {expected}.",
    "dataset_unavailable": (
        "{dataset} is not on this computer and could not be downloaded ({why}).\nTo use it offline, copy the four "
        "files {files} into the folder '{folder}', or into any folder and choose it as the data folder (start with "
        "--data-dir FOLDER or set CONVSCOPE_DATA_DIR). They are published at {homepage}.{details}"),
    "no_internet": "there is no internet connection",
    "no_mirror_delivered": "no mirror delivered a correct file",
    "download_turned_off": "downloading is turned off",
    "copies_unusable": "\nCopies found but not usable: {problems}",
    "download_attempts": "\nDownload attempts: {attempts}",
    "looked_in": "\nLooked in: {folders}.",
    "unusable_copies_too": "{error}\nCopies found but not usable: {problems}",
    "unknown_mnist_dataset": "unknown dataset {name!r}; choose one of {choices}.",
    "data_folder_missing": (
        "{how} '{folder}' does not exist or is not a folder. Choose the folder that holds the {dataset} files "
        "({file} and the other three)."),
    "chosen_folder_problem": "The data folder you chose has a problem: {error}",
    "dataset_loaded_from": "{dataset} ({license}) loaded from {source} ({origin}).",
    "downloaded_from": "downloaded from {mirror}",
    # --- attribution, backward theater, update explanation (engine/attribution.py, backward.py, updates.py)
    "method_one_image": "{method} takes one image, got a batch of {count}.",
    "smoothgrad_copies": "smoothgrad needs at least one noisy copy, got {n}.",
    "patch_stride_too_small": "the patch size and stride must be at least 1, got patch {patch}, stride {stride}.",
    "patch_too_large": "a {patch}x{patch} patch does not fit a {size}-pixel image: use at most {size}.",
    "flat_layer_no_field": "layer '{name}' works on flat vectors: it has no receptive field.",
    "top_patches_need_conv": "layer {index} ('{name}') is {layer_class}; top patches need a Conv2D.",
    "top_patches_batch_shape": "top patches search a batch of images (N, C, H, W) = (N, {dims}), got shape {shape}.",
    "layer_not_run": "layer '{name}' has not run yet: run the model on an image first.",
    "no_pre_activation": (
        "layer '{name}' kept no pre-activation: it was last run in training mode, which applies the "
        "activation in place. Run it in inference mode (training=False)."),
    "no_such_layer": "layer {index} does not exist: the model has layers 0..{last}.",
    "backward_array_shape": "{what} must be (C, H, W) or (H, W); got shape {shape}.",
    "dz_shape_mismatch": (
        "dL/dZ has shape {shape}, but a {kh}x{kw} filter with stride {stride} and padding {pads} over "
        "{h}x{w} gives {out_h}x{out_w} positions."),
    "backward_needs_conv": "the backward walk needs a built Conv2D layer, got {layer_class}.",
    "kernel_dz_mismatch": "kernel {kernel} does not match dL/dZ {d_z}: one (C, KH, KW) kernel per filter.",
    "dz_too_large": "dL/dZ {shape} is too large for an input of {h}x{w} with padding {pads}.",
    "pooling_op_unknown": "pooling op must be 'max' or 'avg', got {op!r}.",
    "max_pool_needs_switches": "max pooling backward needs the forward pass's argmax switches.",
    "pooling_walk_needs_pool": "the pooling walk needs a pooling layer, got {layer_class}.",
    "param_outside_buffer": (
        "layer '{name}' parameter {key} is not inside the model's flat buffer; build the model first."),
    "gradient_filter_shape": "the gradient has shape {gradient}, the filter {filter}: they must match.",
    "optimizer_unexplained": "no explanation for optimizer {name}; known: SGD, Adam, RMSprop.",
    "layer_has_no_filters": "layer {index} ('{name}') has no convolution filters.",
    "optimizer_state_foreign": "the optimizer's state does not belong to this model (was it used on another one?).",
    "params_before_size": "params_before has {got} values, the model {expected}.",
    # --- the run store (engine/runs/)
    "timeline_no_filters": "this timeline kept no convolution filters: the model has no Conv2D layer.",
    "timeline_no_layer_filters": "no filters of layer {name!r} in the timeline; layers with filters: {layers}.",
    "timeline_channel_range": "layer {name!r} has {channels} input channels (0 to {last}); got channel {channel}.",
    "timeline_no_feature_maps": "this timeline kept no feature maps (no layer outputs an image).",
    "timeline_no_such_layer": "no layer {name!r}; layers: {layers}.",
    "timeline_not_feature_maps": (
        "layer {layer} does not output feature maps (C, H, W); pick a Conv2D or pooling layer."),
    "timeline_kind_unknown": "unknown timeline kind {kind!r}; use 'filters' or 'feature_maps'.",
    "timeline_empty": "the timeline is empty: train for at least one step before exporting it.",
    "timeline_normalize_unknown": "normalize must be 'frame' or 'timeline', got {normalize!r}.",
    "run_file_missing": "the run file {path} is missing; it may have been deleted by hand.",
    "run_file_unreadable": "the run file {path} is damaged and cannot be read ({detail}). Delete the run or the file.",
    "run_file_incomplete": "the run file {path} is damaged: it has no '{missing}'. Delete the run or the file.",
    "runs_folder_uncreatable": (
        "cannot create the runs folder {folder}: {detail}. Choose another folder with --runs-dir or "
        "CONVSCOPE_RUNS_DIR."),
    "run_list_busy": (
        "the run list {path} cannot be opened right now ({detail}). If another ConvScope is busy with it, try"
        " again in a moment; check the folder's permissions, or choose another folder with --runs-dir."),
    "run_list_foreign": "it is an SQLite database of another program",
    "run_list_no_version": "it has no format version",
    "run_list_newer": "it was written by a newer ConvScope (format {version}, this one reads {supported})",
    "run_list_set_aside": (
        "the run list {path} could not be read ({cause}), so it was set aside as {aside} and a new list was "
        "started. The runs' files were kept; {adopted} runs were found again (their per-batch curves are "
        "lost). Delete {aside} once you no longer need it."),
    "run_missing": "there is no run {run_id} in {folder}; it may have been deleted.",
    "run_status_unknown": "unknown run status {status!r}; use one of {choices}.",
    "run_written_elsewhere": "run {run_id} ('{name}') is being written by another window; stop it there first.",
    "run_no_moment": "run {run_id} has no timeline moment at step {step}; kept steps: {kept}.",
    "run_no_weights": (
        "run {run_id} ('{name}') has no weights saved for epoch {epoch}; epochs with saved weights: {kept}."),
    "run_still_training_continue": "run {run_id} ('{name}') is still training; stop it before continuing it.",
    "run_still_training_delete": "run {run_id} ('{name}') is still training; stop it before deleting it.",
    "run_writer_busy": "run {run_id} is already being written; close its writer first.",
    "run_writer_closed": "the writer of run {run_id} is closed; open a new one to write more.",
    "run_writer_unknown_item": "unknown item {kind!r} for the run writer.",
    "history_per_octave": "per_octave must be at least 1, got {per_octave}.",
    "history_max_moments": "max_moments must be at least 2 (the first and the last), got {max_moments}.",
    "history_no_weights": "no weights were kept for epoch {epoch}; epochs kept: {kept}.",
    # --- model as code (engine/codegen.py) -----------------------------------------------------------
    "codegen_needs_input_shape": "the code needs the model's input shape (C, H, W), e.g. (1, 28, 28).",
    "codegen_unknown_layer": "no {framework} code for layer type {layer_class}.",
    "codegen_unknown_framework": "framework must be one of {choices}, got {framework!r}.",
    "codegen_needs_weights": "build or train the model before exporting its weights.",
    "codegen_keras_pool_padding": "{name}: Keras pooling has no numeric padding; use 'valid' or 'same'.",
}
MESSAGES.update({
    "empty_file": "an empty file",
    "not_npz_archive": "not an .npz archive",
})
MESSAGES.update({
    # --- rectangular kernels, strides and pools (engine/shapes.py, engine/layers.py) ---------------
    "window_too_large_axis": (
        "{what} {axis} {size} does not fit input {axis} {n} with padding {padding}: the output {axis} would be "
        "({n} + 2*{padding} - {size})/{stride} + 1 = {out}. Use a smaller {what} {axis} (at most {most}), "
        "padding='same', or remove a pooling layer before it."),
    "window_too_large_padded_axis": (
        "{what} {axis} {size} does not fit input {axis} {n} with padding {before}+{after}: use a smaller {what} "
        "{axis} or more padding."),
    "bad_padding_form": (
        "padding must be 'valid', 'same', a number of pixels, (rows, columns) or ((top, bottom), (left, right)), "
        "got {padding}."),
    "not_pair": "{owner}: {what} must be one number or a (height, width) pair such as (1, 3), got {value!r}.",
    "filter_kernel_shape_rect": (
        "Conv2D '{name}': a kernel for this layer is {kh}x{kw} (x {channels} channels), got {got}."),
})
MESSAGES.update({
    # --- image folders in colour at a chosen size (engine/datasets/folder.py) ------------------------
    "folder_too_big_for_memory": (
        "'{folder}': {count} images of {shape} need about {needed_mb} MB while loading, but this computer has "
        "{available_mb} MB available. Choose a smaller image size, grayscale instead of colour, or fewer images "
        "(at most {most} at this size)."),
})
