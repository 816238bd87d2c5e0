"""Saving the records that have no service of their own (customers, taxes, products, a task's
name, a ticket's plain fields): the model's own rules first, so that they answer 400, not 500."""

from django.db import transaction
from rest_framework import serializers


@transaction.atomic
def model_save(instance):
    """Validate with the model's own rules (fields, clean, constraints), then save."""
    instance.full_clean()
    instance.save()
    return instance


class ModelSaveSerializer(serializers.ModelSerializer):
    """A ModelSerializer that saves through `model_save`, so the model's constraints answer 400."""

    def create(self, validated_data):
        return model_save(self.Meta.model(**validated_data))

    def update(self, instance, validated_data):
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return model_save(instance)
