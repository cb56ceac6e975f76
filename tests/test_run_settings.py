"""tinyconv.run.settings: each setting checked once, the rules between settings in one place, and the
command line's options and a sweep's space built from the same declarations."""

import dataclasses

import pytest

from tinyconv.cli import main
from tinyconv.recipes import DATASETS
from tinyconv.run.settings import (
    BEFORE_THEY_EXISTED,
    RESUMABLE,
    SETTINGS,
    RunSettings,
    SettingError,
    check,
    check_resume_epochs,
    from_record,
    resolve,
    solver_keywords,
)

DIGITS = DATASETS["digits"].recipe


@pytest.mark.parametrize("name, value, reason", [
    ("lr", 0, "must be a finite number > 0"),
    ("lr", "fast", "'fast' is not a number"),
    ("epochs", 2.5, "2.5 is not an integer"),
    ("epochs", True, "True is not an integer"),
    ("batch_size", 0, "must be a positive integer"),
    ("lr_decay", 1.5, r"a number in \[0, 1\], got 1.5"),
    ("update_rule", "adagrad", "'adagrad' is not one of sgd, sgd_momentum, rmsprop, adam, adamw"),
    ("model", "c16x", "bad token 'c16x'"),
    ("augment", "rotate", "'rotate' is not none, cropN, flip or cropN-flip"),
    ("early_stopping", 0, "must be a positive integer"),
    ("keep", "first", "'first' is not one of best, last"),
])
def test_a_bad_value_is_refused_naming_its_setting(name, value, reason):
    with pytest.raises(SettingError, match=reason) as caught:
        check(name, value)
    assert caught.value.setting == name
    with pytest.raises(SettingError) as caught:
        DIGITS.replace(**{name: value})
    assert caught.value.setting == name


def test_good_values_come_back_converted():
    assert check("lr", "0.01") == 0.01 and check("epochs", "3") == 3 and check("early_stopping", None) is None
    assert check("model", "c8p-f16") == "c8p-f16" and check("augment", "crop2-flip") == "crop2-flip"
    with pytest.raises(SettingError, match="'lr_rate' is not a run setting"):
        check("lr_rate", 0.1)


def test_every_recipe_is_valid_settings():
    for info in DATASETS.values():
        assert isinstance(info.recipe, RunSettings)
        assert RunSettings(**info.recipe.as_dict()) == info.recipe


@pytest.mark.parametrize("given, setting, message", [
    ({"update_rule": "sgd", "weight_decay": 0.1}, "weight_decay", "decoupled weight decay goes with Adam"),
    ({"lr_schedule": "cosine", "lr_decay": 0.5}, "lr_decay", "drop lr_decay or give 1"),
    ({"model": "fc", "init": "he"}, "init", "init is for ConvNet specs"),
    ({"model": "three-layer", "label_smoothing": 0.1}, "label_smoothing", "label_smoothing is for ConvNet specs"),
])
def test_settings_that_do_not_go_together_are_refused_where_they_meet(given, setting, message):
    with pytest.raises(SettingError, match=message) as caught:
        resolve(DIGITS, given)
    assert caught.value.setting == setting
    # The message names settings as its reader spells them: plainly, or as the command line's options.
    assert "`" not in str(caught.value)
    spelled = caught.value.describe(lambda name: "--" + name.replace("_", "-"))
    assert "--" in spelled and spelled.replace("--", "").replace("-", "_") == str(caught.value).replace("-", "_")


def test_the_recipe_is_a_whole():
    fashion = DATASETS["fashion-mnist"].recipe
    assert resolve(fashion, {"model": "c8p"}).normalization == "none"  # another model drops the recipe's norm
    assert resolve(fashion, {"update_rule": "sgd"}).weight_decay == 0.0
    assert resolve(DIGITS, {"lr_schedule": "cosine"}).lr_decay == 1.0
    assert resolve(DIGITS, {"lr": None}) == resolve(DIGITS, {})  # None means not given
    three = resolve(DIGITS, {})
    assert three.init is None and three.label_smoothing == 0.0  # the cs231n nets draw and score as cs231n


def test_a_record_from_before_a_setting_existed_gets_what_those_runs_did():
    record = DIGITS.as_dict()
    for name in BEFORE_THEY_EXISTED:
        del record[name]
    settings = from_record(record)
    assert settings.keep == "best" and settings.label_smoothing == 0.0
    del record["lr"]
    with pytest.raises(SettingError, match=r"missing \['lr'\]"):
        from_record(record)


def test_a_resume_may_change_only_what_does_not_change_the_course_of_training():
    assert set(RESUMABLE) == {"epochs", "early_stopping", "keep"}
    cosine = resolve(DIGITS, {"lr_schedule": "cosine", "epochs": 4})
    check_resume_epochs(cosine, 4, 2, "run/checkpoint_epoch_2.npz")
    with pytest.raises(SettingError, match="cosine schedule over 4 epochs"):
        check_resume_epochs(cosine, 5, 2, "run/checkpoint_epoch_2.npz")
    with pytest.raises(SettingError, match="already trained 3 epochs"):
        check_resume_epochs(DIGITS, 2, 3, "run/checkpoint_epoch_3.npz")


def test_adam_with_a_weight_decay_is_adamw_for_the_solver():
    keywords = solver_keywords(resolve(DIGITS, {"weight_decay": 0.01, "lr_schedule": "cosine"}), seed=3)
    assert keywords["update_rule"] == "adamw" and keywords["optim_config"] == {"learning_rate": 3e-3,
                                                                                "weight_decay": 0.01}
    assert keywords["lr_schedule"] == "cosine" and keywords["seed"] == 3


def test_train_has_one_option_per_setting_checked_by_its_declaration():
    options = {param.name: param for param in main.commands["train"].params}
    assert set(SETTINGS) <= set(options)
    for name, setting in SETTINGS.items():
        option = options[name]
        assert option.opts == ["--" + name.replace("_", "-")]
        if setting.choices:
            assert tuple(option.type.choices) == setting.choices
        else:
            assert option.type.setting is setting
    assert [field.name for field in dataclasses.fields(RunSettings)] == list(SETTINGS)
