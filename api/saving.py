"""Saving the records that have no service of their own (customers, taxes, a task's name, a ticket's
plain fields): the model's own rules first, so that they answer 400, not 500; and the serializers of
the records that have one (products, work types, teams)."""

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


class ServiceSaveSerializer(serializers.ModelSerializer):
    """A ModelSerializer that saves through its model's service (`save_through`: it validates and audits)."""

    def save_through(self, instance):
        raise NotImplementedError

    def create(self, validated_data):
        return self.save_through(self.Meta.model(**validated_data))

    def update(self, instance, validated_data):
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return self.save_through(instance)
