"""The organization's plain resources: contacts, knowledge items, forms and services."""

from rest_framework import serializers

from chats.models import Contact, Form, KnowledgeItem, Service

from .base import ReachViewSet, crud_scopes


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "external_id", "name", "email", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_external_id(self, value):
        organization_id = (
            self.instance.organization_id
            if self.instance is not None
            else self.context["request"].auth.organization_id
        )
        taken = Contact.objects.filter(organization_id=organization_id, external_id=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A contact with this external id exists already.")
        return value


class ContactViewSet(ReachViewSet):
    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    contact_field = "pk"
    required_scopes = crud_scopes("contacts", retrieve="read.contact_details")


class KnowledgeItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = KnowledgeItem
        fields = ["id", "title", "body", "created_at"]
        read_only_fields = ["id", "created_at"]


class KnowledgeItemViewSet(ReachViewSet):
    queryset = KnowledgeItem.objects.all()
    serializer_class = KnowledgeItemSerializer
    required_scopes = crud_scopes("knowledge_items")


class FormSerializer(serializers.ModelSerializer):
    fields = serializers.ListField(child=serializers.DictField(), required=False)

    class Meta:
        model = Form
        fields = ["id", "name", "fields", "created_at"]
        read_only_fields = ["id", "created_at"]


class FormViewSet(ReachViewSet):
    queryset = Form.objects.all()
    serializer_class = FormSerializer
    required_scopes = crud_scopes("forms", retrieve="read.form_details")


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name", "description", "created_at"]
        read_only_fields = ["id", "created_at"]


class ServiceViewSet(ReachViewSet):
    queryset = Service.objects.all()
    serializer_class = ServiceSerializer
    required_scopes = crud_scopes("services")
