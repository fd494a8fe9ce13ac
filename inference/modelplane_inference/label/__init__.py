"""Label-assist: ``modelplane label DIR --model ...`` shows each unlabelled photo with the served
model's answer; a person accepts or corrects it with one key, and the decisions land in the class
folders ``modelplane-models train --data DIR`` reads (see the README's "Label new data")."""
