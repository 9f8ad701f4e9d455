# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Preface: how to use this book
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/rnnbook/rnnbook/blob/main/chapters/00_preface.ipynb)
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/rnnbook/rnnbook/main?labpath=chapters%2F00_preface.ipynb)
#
# **What you will learn**
#
# - ...
#

# %%
# On Colab, install the book's package first. Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "rnnbook @ git+https://github.com/rnnbook/rnnbook"], check=True)
