from django.shortcuts import render

from accounts.decorators import developer_required


@developer_required
def developer_home(request):
    return render(request, "tokens/developer_home.html")
